# A request target with raw UTF-8 (not percent-encoded) in a path word: clients send it,
# and the templating must not cut a character (a worker once panicked on it).
>>>
GET /api/ééé/items HTTP/1.1
Host: h.example


<<<
HTTP/1.1 200 OK
Content-Type: application/json
Content-Length: 2

{}
