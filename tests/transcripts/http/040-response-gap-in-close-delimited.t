# A server gap inside a close-delimited body loses sync: the response is cut there.
>>>
GET /stream HTTP/1.1
Host: api.example.com


<<<
HTTP/1.0 200 OK

first part
<><
--------------------
<<<
last part
