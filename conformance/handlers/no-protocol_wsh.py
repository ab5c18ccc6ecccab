# Selects no subprotocol even when the client offered some. Then sends "open"
# and closes (1000).


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []
    # pywebsocket3 insists on a selection when protocols were offered.
    request.ws_requested_protocols = None


def web_socket_transfer_data(request):
    request.ws_stream.send_message('open', binary=False)
