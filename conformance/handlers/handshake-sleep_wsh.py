# Delays the handshake by ?ms=N milliseconds (default 1000), then echoes.

import time
from urllib.parse import parse_qs, urlsplit


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []
    query = parse_qs(urlsplit(request.ws_resource).query)
    time.sleep(int(query.get('ms', ['1000'])[0]) / 1000)


def web_socket_transfer_data(request):
    while True:
        message = request.ws_stream.receive_message()
        if message is None:
            return
        request.ws_stream.send_message(message, binary=not isinstance(message, str))
