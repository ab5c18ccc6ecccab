# Answers the upgrade with a line that is not HTTP.

from pywebsocket3.handshake import AbortedByUserException


def web_socket_do_extra_handshake(request):
    request.connection.write(b'FOO BAR BAZ\r\n\r\n')
    raise AbortedByUserException('not an HTTP response')


def web_socket_transfer_data(request):
    pass
