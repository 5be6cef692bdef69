# A response chunk-size line that is not hex: the rest is read until the close (like libhtp).
>>>
GET /c HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Transfer-Encoding: chunked

5
hello
not-hex
rest of data
