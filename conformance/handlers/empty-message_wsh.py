# Answers "pass" if the first message is an empty text message, else "fail".


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []


def web_socket_transfer_data(request):
    message = request.ws_stream.receive_message()
    request.ws_stream.send_message('pass' if message == '' else 'fail', binary=False)
    request.ws_stream.receive_message()
