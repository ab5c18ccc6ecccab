# Refuses the upgrade: HTTP 403.


def web_socket_do_extra_handshake(request):
    raise ValueError('refused')


def web_socket_transfer_data(request):
    pass
