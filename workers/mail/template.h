// Named e-mail templates, as SES has them: a subject, a text part and an HTML part, each with
// {{placeholders}} filled from a JSON object at send time.
//
// Syntax (a small subset of the Handlebars SES uses): {{name}} or {{a.b}} inserts a value (looked up in
// the innermost {{#each}} item first, then outwards; {{this}} is the item itself), and
// {{#each list}}...{{/each}} repeats its body for each element of an array. Values are inserted
// HTML-escaped in the HTML part, with line breaks and control characters turned into spaces in the
// subject (so data can never add a header), and verbatim in the text part. A placeholder whose value is
// absent is an error, as in SES ("Attribute ... is not present"), never an empty string.
//
// Templates are data files under workers/mail/templates/ (<name>.subject, <name>.txt, <name>.html),
// parsed once at start-up; a syntax error there stops the mailer from starting. A TemplateSet is
// immutable after loading and safe to share between threads.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace chatpipe::mail {

struct RenderedEmail {
  std::string subject;
  std::string text;  // empty when the template has no text part
  std::string html;  // empty when the template has no HTML part
};

class TemplateSet {
 public:
  // Loads every <name>.subject in `dir` with its <name>.txt and/or <name>.html (at least one of them).
  static Result<TemplateSet> LoadDir(const std::string& dir);
  // Adds (or replaces) one template; an empty part is absent. Fails on a syntax error.
  Status Add(const std::string& name, std::string_view subject, std::string_view text, std::string_view html);
  bool Has(const std::string& name) const { return templates_.count(name) > 0; }
  std::vector<std::string> Names() const;
  // Fails with "TemplateDoesNotExist" or "MessageRejected" (a rendering failure: missing attribute,
  // {{#each}} over a non-array, an object where text belongs).
  Result<RenderedEmail> Render(const std::string& name, const rapidjson::Value& data) const;

  struct Node;
  using Nodes = std::vector<Node>;

 private:
  struct Compiled {
    std::shared_ptr<const Nodes> subject, text, html;  // text/html null when absent
  };
  std::map<std::string, Compiled> templates_;
};

}  // namespace chatpipe::mail
