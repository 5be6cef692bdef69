# Picked up mid-stream inside a request body: the next request is found.
#! midstream
>>>
tail of an upload
more of it
GET /a HTTP/1.1
Host: m


<<<
HTTP/1.1 200 OK
Content-Length: 3

abc
