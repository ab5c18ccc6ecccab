# Sends one message of ?bytes=N (default 65536) bytes, ?type=text (all "x")
# or binary (byte i is i mod 256), then waits for the client to close.

from urllib.parse import parse_qs, urlsplit


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []


def web_socket_transfer_data(request):
    query = parse_qs(urlsplit(request.ws_resource).query)
    size = int(query.get('bytes', ['65536'])[0])
    if query.get('type', ['text'])[0] == 'binary':
        request.ws_stream.send_message(bytes(i % 256 for i in range(size)), binary=True)
    else:
        request.ws_stream.send_message('x' * size, binary=False)
    request.ws_stream.receive_message()
