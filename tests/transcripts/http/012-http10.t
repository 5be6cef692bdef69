# HTTP/1.0 request without Host, HTTP/1.0 response delimited by close.
>>>
GET /old HTTP/1.0
User-Agent: ancient


<<<
HTTP/1.0 200 OK
Content-Type: text/plain

old style
