# On the client's first message, sends "bye", then drops the TCP connection
# without a close frame.

from pywebsocket3.handshake import AbortedByUserException


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []


def web_socket_transfer_data(request):
    request.ws_stream.receive_message()
    request.ws_stream.send_message('bye', binary=False)
    raise AbortedByUserException('drop the connection')
