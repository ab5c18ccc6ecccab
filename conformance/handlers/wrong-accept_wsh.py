# Answers the upgrade with a wrong Sec-WebSocket-Accept, then drops the
# connection.

from pywebsocket3.handshake import AbortedByUserException


def web_socket_do_extra_handshake(request):
    request.connection.write(b'HTTP/1.1 101 Switching Protocols\r\n'
                             b'Upgrade: websocket\r\n'
                             b'Connection: Upgrade\r\n'
                             b'Sec-WebSocket-Accept: thisisawrongacceptkey=\r\n'
                             b'\r\n')
    raise AbortedByUserException('wrong accept key sent')


def web_socket_transfer_data(request):
    pass
