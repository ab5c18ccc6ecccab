# A server that closes as soon as the connection is open: 1000, no reason.


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []


def web_socket_transfer_data(request):
    pass
