# Selects a subprotocol the client did not offer: ?protocol=P (default
# "foobar"), whether the client offered others or none. Then sends "open" and
# closes (1000).

from urllib.parse import parse_qs, urlsplit


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []
    query = parse_qs(urlsplit(request.ws_resource).query)
    protocol = query.get('protocol', ['foobar'])[0]
    if request.ws_requested_protocols:
        request.ws_protocol = protocol
    else:
        # pywebsocket3 selects nothing when nothing was offered: add it by hand.
        request.extra_headers.append(('Sec-WebSocket-Protocol', protocol))


def web_socket_transfer_data(request):
    request.ws_stream.send_message('open', binary=False)
