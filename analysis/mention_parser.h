// Mention parsing: who and which rooms a chat message points at. A pure function, no I/O.
//
// @name mentions a user. User names are 1 to 32 of [A-Za-z0-9_.-] (ingress's rule) and match case-
// insensitively, so names come back lower-case. A mention starts at the beginning of the text or
// after whitespace or punctuation ( [ { < " ' ` , ; : ! ? * ~ > ) ] } | and the Unicode spaces,
// quotes, dashes, ¡ ¿ « » and emoji), never after a letter, digit or one of _ . - + / \ = & % # @ $ ^,
// so "ana@example.com", "x.@y" and "https://host/@user" mention nobody. The name runs to the first
// character that cannot be in a name; it must not be followed by '@' (an e-mail address) nor by a
// non-ASCII letter ("@josé" names no ASCII user). Because '.' and '-' may end a name, "@rodo." gives
// the candidates "rodo." and "rodo" (longest first): the worker takes the longest that is a user.
// @room and @all mean every member of the room, @here the members present now; they win over users
// who are called room, all or here.
// At most max_users names are kept (the first ones written); more_users says that more were named.
// #name links a room: room names are 1 to 64 of [a-z0-9_-] starting with a letter or digit; they are
// lower-cased like ingress does, with the same boundary rules as @.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace chatpipe {

struct ParsedMentions {
  // One entry per @name, in order, repeats removed: the lower-case candidate names, longest first.
  std::vector<std::vector<std::string>> users;
  bool more_users = false;  // names beyond max_users were written (and left out of users)
  bool room = false;  // @room or @all
  bool here = false;  // @here
  std::vector<std::string> rooms;  // #room links, lower-case, in order, repeats removed

  bool empty() const { return users.empty() && !room && !here; }  // nobody to notify
};

ParsedMentions ParseMentions(std::string_view text, size_t max_users = std::numeric_limits<size_t>::max());

}  // namespace chatpipe
