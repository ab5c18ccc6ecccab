# Echoes every message with its type. "Goodbye" is echoed, then the server
# closes (1000). When the client closes, the server's close frame repeats the
# client's code and reason, so the client's CloseEvent tells what the server
# received (a close frame with no code is answered with no code: 1005).
# Selects the subprotocol "echo" when offered. No extensions.

from pywebsocket3 import common


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []
    if request.ws_requested_protocols and 'echo' in request.ws_requested_protocols:
        request.ws_protocol = 'echo'


def web_socket_transfer_data(request):
    while True:
        message = request.ws_stream.receive_message()
        if message is None:
            return
        binary = not isinstance(message, str)
        request.ws_stream.send_message(message, binary=binary)
        if message == 'Goodbye':
            return


def web_socket_passive_closing_handshake(request):
    code, reason = request.ws_close_code, request.ws_close_reason
    if code == common.STATUS_NO_STATUS_RECEIVED:
        return None, ''
    return code, reason
