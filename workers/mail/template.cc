#include "workers/mail/template.h"

#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace chatpipe::mail {

struct TemplateSet::Node {
  enum Kind { kText, kValue, kEach } kind = kText;
  std::string text;  // kText: the literal; kValue, kEach: the path
  Nodes body;        // kEach
};

namespace {

enum class Escape { kNone, kHtml, kHeader };

Status SyntaxError(const std::string& where, const std::string& what) {
  return Status::InvalidArgument("InvalidTemplate", where + ": " + what);
}

bool ValidPath(std::string_view p) {
  if (p.empty() || p.front() == '.' || p.back() == '.') return false;
  for (char c : p)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return p.find("..") == std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Parses src from *pos into out until the end, or until {{/each}} when inside an #each.
Status Parse(std::string_view src, size_t* pos, bool in_each, const std::string& where, TemplateSet::Nodes* out) {
  using Node = TemplateSet::Node;
  while (*pos < src.size()) {
    size_t open = src.find("{{", *pos);
    if (open == std::string_view::npos) open = src.size();
    if (open > *pos) out->push_back(Node{Node::kText, std::string(src.substr(*pos, open - *pos)), {}});
    if (open == src.size()) {
      *pos = open;
      break;
    }
    if (src.compare(open, 3, "{{{") == 0) return SyntaxError(where, "{{{raw}}} placeholders are not supported");
    size_t close = src.find("}}", open + 2);
    if (close == std::string_view::npos) return SyntaxError(where, "unclosed {{ at offset " + std::to_string(open));
    std::string_view tag = Trim(src.substr(open + 2, close - open - 2));
    *pos = close + 2;
    if (tag == "/each") {
      if (!in_each) return SyntaxError(where, "{{/each}} without {{#each}}");
      return Status::Ok();
    }
    if (tag.rfind("#each", 0) == 0) {
      std::string_view path = Trim(tag.substr(5));
      if (!ValidPath(path)) return SyntaxError(where, "bad {{#each}} list name '" + std::string(path) + "'");
      Node each{Node::kEach, std::string(path), {}};
      // Returns at its {{/each}}; reaching the end of the text instead is an error there.
      if (Status s = Parse(src, pos, true, where, &each.body); !s.ok()) return s;
      out->push_back(std::move(each));
      continue;
    }
    if (!ValidPath(tag)) return SyntaxError(where, "bad placeholder '{{" + std::string(tag) + "}}'");
    out->push_back(Node{Node::kValue, std::string(tag), {}});
  }
  if (in_each) return SyntaxError(where, "{{#each}} is never closed");
  return Status::Ok();
}

Result<std::shared_ptr<const TemplateSet::Nodes>> Compile(std::string_view src, const std::string& where) {
  auto nodes = std::make_shared<TemplateSet::Nodes>();
  size_t pos = 0;
  if (Status s = Parse(src, &pos, false, where, nodes.get()); !s.ok()) return s;
  return std::shared_ptr<const TemplateSet::Nodes>(std::move(nodes));
}

Status RenderError(const std::string& what) { return Status::InvalidArgument("MessageRejected", "template rendering failed: " + what); }

// Resolves a dotted path in the innermost scope that has its first name, else outwards.
const rapidjson::Value* Lookup(const std::vector<const rapidjson::Value*>& scopes, const std::string& path) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t dot = path.find('.', start);
    parts.push_back(std::string_view(path).substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  const rapidjson::Value* v = nullptr;
  size_t first = 0;
  if (parts[0] == "this") {
    v = scopes.back();
    first = 1;
  } else {
    for (auto it = scopes.rbegin(); it != scopes.rend() && !v; ++it) {
      if (!(*it)->IsObject()) continue;
      auto m = (*it)->FindMember(rapidjson::Value(rapidjson::StringRef(parts[0].data(), parts[0].size())));
      if (m != (*it)->MemberEnd()) v = &m->value;
    }
    first = 1;
    if (!v) return nullptr;
  }
  for (size_t i = first; i < parts.size(); ++i) {
    if (!v->IsObject()) return nullptr;
    auto m = v->FindMember(rapidjson::Value(rapidjson::StringRef(parts[i].data(), parts[i].size())));
    if (m == v->MemberEnd()) return nullptr;
    v = &m->value;
  }
  return v;
}

void Append(std::string* out, std::string_view s, Escape esc) {
  for (char c : s) {
    if (esc == Escape::kHtml) {
      switch (c) {
        case '&': *out += "&amp;"; continue;
        case '<': *out += "&lt;"; continue;
        case '>': *out += "&gt;"; continue;
        case '"': *out += "&quot;"; continue;
        case '\'': *out += "&#39;"; continue;
      }
    } else if (esc == Escape::kHeader && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)) {
      *out += ' ';
      continue;
    }
    *out += c;
  }
}

Status RenderNodes(const TemplateSet::Nodes& nodes, std::vector<const rapidjson::Value*>& scopes, Escape esc,
                   std::string* out) {
  using Node = TemplateSet::Node;
  for (const Node& n : nodes) {
    if (n.kind == Node::kText) {
      out->append(n.text);
      continue;
    }
    const rapidjson::Value* v = Lookup(scopes, n.text);
    if (!v) return RenderError("attribute '" + n.text + "' is not present in the rendering data");
    if (n.kind == Node::kEach) {
      if (!v->IsArray()) return RenderError("'" + n.text + "' is not a list");
      for (const auto& item : v->GetArray()) {
        scopes.push_back(&item);
        Status s = RenderNodes(n.body, scopes, esc, out);
        scopes.pop_back();
        if (!s.ok()) return s;
      }
      continue;
    }
    char num[32];
    if (v->IsString()) {
      Append(out, std::string_view(v->GetString(), v->GetStringLength()), esc);
    } else if (v->IsInt64()) {
      snprintf(num, sizeof num, "%lld", static_cast<long long>(v->GetInt64()));
      out->append(num);
    } else if (v->IsUint64()) {
      snprintf(num, sizeof num, "%llu", static_cast<unsigned long long>(v->GetUint64()));
      out->append(num);
    } else if (v->IsNumber()) {
      snprintf(num, sizeof num, "%g", v->GetDouble());
      out->append(num);
    } else if (v->IsBool()) {
      out->append(v->GetBool() ? "true" : "false");
    } else if (!v->IsNull()) {
      return RenderError("'" + n.text + "' is a list or an object, not a value");
    }
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path, bool* exists) {
  std::ifstream in(path, std::ios::binary);
  *exists = in.good();
  if (!*exists) return std::string();
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::Internal("cannot read " + path);
  return ss.str();
}

}  // namespace

Status TemplateSet::Add(const std::string& name, std::string_view subject, std::string_view text,
                        std::string_view html) {
  if (text.empty() && html.empty()) return SyntaxError(name, "a template needs a text part, an HTML part or both");
  Compiled c;
  auto s = Compile(subject, name + ".subject");
  if (!s.ok()) return s.status();
  c.subject = *s;
  if (!text.empty()) {
    auto t = Compile(text, name + ".txt");
    if (!t.ok()) return t.status();
    c.text = *t;
  }
  if (!html.empty()) {
    auto h = Compile(html, name + ".html");
    if (!h.ok()) return h.status();
    c.html = *h;
  }
  templates_[name] = std::move(c);
  return Status::Ok();
}

Result<TemplateSet> TemplateSet::LoadDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return Status::NotFound("templates_not_found", "cannot open the template directory " + dir);
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    const std::string ext = ".subject";
    if (f.size() > ext.size() && f.compare(f.size() - ext.size(), ext.size(), ext) == 0)
      names.push_back(f.substr(0, f.size() - ext.size()));
  }
  closedir(d);
  TemplateSet set;
  for (const auto& name : names) {
    bool has_subject, has_text, has_html;
    auto subject = ReadFile(dir + "/" + name + ".subject", &has_subject);
    auto text = ReadFile(dir + "/" + name + ".txt", &has_text);
    auto html = ReadFile(dir + "/" + name + ".html", &has_html);
    if (Status s = FirstError({subject.status(), text.status(), html.status()}); !s.ok()) return s;
    std::string subj = *subject;
    while (!subj.empty() && (subj.back() == '\n' || subj.back() == '\r')) subj.pop_back();  // the file's last newline
    if (Status s = set.Add(name, subj, *text, *html); !s.ok()) return s;
  }
  if (set.templates_.empty()) return Status::NotFound("templates_not_found", "no <name>.subject template in " + dir);
  return set;
}

std::vector<std::string> TemplateSet::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, c] : templates_) out.push_back(name);
  return out;
}

Result<RenderedEmail> TemplateSet::Render(const std::string& name, const rapidjson::Value& data) const {
  auto it = templates_.find(name);
  if (it == templates_.end()) return Status::NotFound("TemplateDoesNotExist", "Template " + name + " does not exist.");
  std::vector<const rapidjson::Value*> scopes{&data};
  RenderedEmail out;
  if (Status s = RenderNodes(*it->second.subject, scopes, Escape::kHeader, &out.subject); !s.ok()) return s;
  if (it->second.text)
    if (Status s = RenderNodes(*it->second.text, scopes, Escape::kNone, &out.text); !s.ok()) return s;
  if (it->second.html)
    if (Status s = RenderNodes(*it->second.html, scopes, Escape::kHtml, &out.html); !s.ok()) return s;
  return out;
}

}  // namespace chatpipe::mail
