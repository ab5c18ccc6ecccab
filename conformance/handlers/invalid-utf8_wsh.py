# On the client's first message, sends "valid", then a text frame whose
# payload is not UTF-8.

import struct


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []


def web_socket_transfer_data(request):
    request.ws_stream.receive_message()
    request.ws_stream.send_message('valid', binary=False)
    payload = b'\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited'
    request.connection.write(struct.pack('!BB', 0x81, len(payload)) + payload)
    try:
        while request.ws_stream.receive_message() is not None:
            pass
    except Exception:
        pass
