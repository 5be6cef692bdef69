# A client gap inside a request head: the partial head is kept, the next request found again.
>>>
GET /first HTTP/1.1
Host: a.example
User-Ag
><>
----------
>>>
ent: x

GET /second HTTP/1.1
Host: a.example


<<<
HTTP/1.1 200 OK
Content-Length: 1

1HTTP/1.1 200 OK
Content-Length: 1

2
