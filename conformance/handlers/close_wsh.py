# Closes at once with ?code=N and ?reason=R (UTF-8, percent-encoded in the
# query). Without a code the close frame has no body (the client sees 1005).
# The frame is written by hand, so any code can be sent, even those the
# protocol forbids on the wire (0, 999, 1005, 1006, 1015, 5000, 65535).
# ?message=M sends a text message first.

import struct
from urllib.parse import parse_qs, urlsplit


def web_socket_do_extra_handshake(request):
    request.ws_extension_processors = []


def web_socket_transfer_data(request):
    query = parse_qs(urlsplit(request.ws_resource).query, keep_blank_values=True)
    if 'message' in query:
        request.ws_stream.send_message(query['message'][0], binary=False)
    body = b''
    if 'code' in query:
        reason = query.get('reason', [''])[0].encode('utf-8')
        body = struct.pack('!H', int(query['code'][0])) + reason
    request.connection.write(struct.pack('!BB', 0x88, len(body)) + body)
    # Wait for the client's close frame without answering it again.
    request.server_terminated = True
    try:
        while request.ws_stream.receive_message() is not None:
            pass
    except Exception:
        pass
