# On the client's first message, sends the text "test", then a frame with the
# reserved opcode 3, which the client must answer by failing the connection.

import struct


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []


def web_socket_transfer_data(request):
    request.ws_stream.receive_message()
    request.ws_stream.send_message('test', binary=False)
    request.connection.write(struct.pack('!BB', 0x83, 3) + b'LOL')
    try:
        while request.ws_stream.receive_message() is not None:
            pass
    except Exception:
        pass
