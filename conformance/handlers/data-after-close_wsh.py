# On "Goodbye": a close frame (1000 "bye"), then a text frame after it, which
# the client must ignore.

import struct


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []


def web_socket_transfer_data(request):
    while True:
        message = request.ws_stream.receive_message()
        if message is None:
            return
        if message == 'Goodbye':
            break
    body = struct.pack('!H', 1000) + b'bye'
    request.connection.write(struct.pack('!BB', 0x88, len(body)) + body)
    request.connection.write(struct.pack('!BB', 0x81, 4) + b'late')
    request.server_terminated = True
    try:
        while request.ws_stream.receive_message() is not None:
            pass
    except Exception:
        pass
