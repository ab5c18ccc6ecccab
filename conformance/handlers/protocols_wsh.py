# Selects the first subprotocol offered, and sends the Sec-WebSocket-Protocol
# request header exactly as received ("" when there was none).


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []
    if request.ws_requested_protocols:
        request.ws_protocol = request.ws_requested_protocols[0]


def web_socket_transfer_data(request):
    header = request.headers_in.get('Sec-WebSocket-Protocol') or ''
    request.ws_stream.send_message(header, binary=False)
    request.ws_stream.receive_message()
