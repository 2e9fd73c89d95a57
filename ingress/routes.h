// The HTTP API's table of paths and the methods each answers to, so that the dispatcher
// (HandleHttpRequest) can tell an unknown path (404) from a known one asked with the wrong method
// (405, with an Allow header) before it authenticates or routes anything. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chatpipe {

// The methods `path` answers to, as an Allow header value ("GET, POST"), or empty when no route has
// that path: an /api path the table does not know. Every path outside /api is the web client's
// (static files, GET and HEAD).
std::string_view AllowedMethods(std::string_view path);

// Whether `method` is one of an Allow value's methods.
bool MethodAllowed(std::string_view allow, std::string_view method);

// /api/rooms/{id}/{what}, or /api/rooms/{id} (*what empty): the room id (0 when the path is not of
// that shape), and *what.
int64_t ParseRoomPath(std::string_view path, std::string* what);

// /api/board/pixels/{x}/{y}: whether the path is of that shape (x and y decimal integers), and them.
bool ParsePixelPath(std::string_view path, int* x, int* y);

// /api/messages/{id}/speech: the message id, or 0 when the path is not of that shape.
uint64_t ParseSpeechPath(std::string_view path);

}  // namespace chatpipe
