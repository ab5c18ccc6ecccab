# Sends the request's query string, as it arrived (percent-encoded), then
# closes (1000).

from urllib.parse import urlsplit


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []


def web_socket_transfer_data(request):
    request.ws_stream.send_message(urlsplit(request.ws_resource).query, binary=False)
