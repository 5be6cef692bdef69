# The flow ends in the middle of a Content-Length body.
>>>
GET /big HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 100

only this much
