# HTTP/1.1 response without Content-Length or chunking: the body runs to the close.
>>>
GET /page HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Type: text/html
Connection: close

<html>body</html>
