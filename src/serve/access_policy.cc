#include "serve/access_policy.h"

#include <arpa/inet.h>
#include <sys/random.h>

#include <cerrno>
#include <charconv>

namespace recorder::serve {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::Errorf(StatusCode::kInvalid,
                          "bad --listen '{}': {} (give HOST:PORT with an IP address, e.g. "
                          "127.0.0.1:8765 or [::1]:8765)",
                          text, why);
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  ListenAddress out;
  out.host = std::string(host);
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port < 0 || port > 65535)
    return bad("the port is not a number from 0 to 65535");
  out.port = port;
  in_addr v4{};
  in6_addr v6{};
  if (!bracketed && inet_pton(AF_INET, out.host.c_str(), &v4) == 1) {
    out.loopback = (ntohl(v4.s_addr) >> 24) == 127;
  } else if (bracketed && inet_pton(AF_INET6, out.host.c_str(), &v6) == 1) {
    out.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  } else {
    return bad("the host is not an IPv4 address or a bracketed IPv6 address");
  }
  return out;
}

std::string FormatHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<TokenChoice> ChooseToken(const ListenAddress& listen, std::string_view given, bool no_token,
                                std::string_view random_bytes) {
  if (no_token) {
    if (!given.empty())
      return Status::Error(StatusCode::kInvalid, "--token and --no-token exclude each other");
    if (!listen.loopback)
      return Status::Errorf(StatusCode::kInvalid,
                            "--no-token is allowed on a loopback address only, not on {}: "
                            "anyone who can reach {} could read the database",
                            listen.host, listen.host);
    return TokenChoice{};
  }
  if (!given.empty()) {
    if (given.size() < kMinTokenChars)
      return Status::Errorf(StatusCode::kInvalid,
                            "--token is too short ({} characters): give at least {}, or leave "
                            "it out and one is generated",
                            given.size(), kMinTokenChars);
    return TokenChoice{std::string(given), false};
  }
  if (random_bytes.size() < 16)
    return Status::Error(StatusCode::kInvalid, "not enough random bytes for a token");
  TokenChoice choice;
  choice.generated = true;
  for (unsigned char c : random_bytes) choice.token += fmt::format("{:02x}", c);
  return choice;
}

Result<std::string> RandomBytes() {
  std::string bytes(32, '\0');
  size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t n = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "getrandom");
    }
    filled += static_cast<size_t>(n);
  }
  return bytes;
}

bool ConstantTimeEquals(std::string_view presented, std::string_view expected) {
  // Every byte of `expected` is compared, whatever `presented` holds; a
  // wrong length is one more difference, not an early return.
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff |= static_cast<unsigned char>(p ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

std::string_view CookieValue(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    const size_t semicolon = cookie_header.find(';');
    const std::string_view pair = Trim(cookie_header.substr(0, semicolon));
    cookie_header = semicolon == std::string_view::npos ? std::string_view()
                                                        : cookie_header.substr(semicolon + 1);
    const size_t equals = pair.find('=');
    if (equals != std::string_view::npos && Trim(pair.substr(0, equals)) == name)
      return Trim(pair.substr(equals + 1));
  }
  return {};
}

std::string_view BearerToken(std::string_view authorization_header) {
  std::string_view value = Trim(authorization_header);
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = value[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    const char want = (kScheme[i] >= 'A' && kScheme[i] <= 'Z')
                          ? static_cast<char>(kScheme[i] - 'A' + 'a')
                          : kScheme[i];
    if (lower != want) return {};
  }
  return Trim(value.substr(kScheme.size()));
}

std::string TokenCookieName(int port) { return fmt::format("recorder_token_{}", port); }

bool RequestCarriesToken(std::string_view token, std::string_view authorization_header,
                         std::string_view cookie_header, int port) {
  if (token.empty()) return true;
  const std::string_view bearer = BearerToken(authorization_header);
  const std::string_view cookie = CookieValue(cookie_header, TokenCookieName(port));
  // Both are compared, so the time taken does not tell which was present.
  const bool bearer_ok = !bearer.empty() && ConstantTimeEquals(bearer, token);
  const bool cookie_ok = !cookie.empty() && ConstantTimeEquals(cookie, token);
  return bearer_ok || cookie_ok;
}

}  // namespace recorder::serve

namespace recorder::serve {

bool HostAllowed(std::string_view host_header, const ListenAddress& listen, int port) {
  if (!listen.loopback) return true;
  const std::string suffix = fmt::format(":{}", port);
  std::string_view host = host_header;
  if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix)
    host.remove_suffix(suffix.size());
  else if (port != 80)  // a browser leaves out the default port only
    return false;
  const std::string bracketed =
      listen.host.find(':') != std::string::npos ? "[" + listen.host + "]" : listen.host;
  return host == bracketed || host == "localhost";
}

}  // namespace recorder::serve

namespace recorder::serve {

std::string StartMessage(const ListenAddress& listen, int port, const TokenChoice& token) {
  const bool any = listen.host == "0.0.0.0" || listen.host == "::";
  const std::string where =
      any ? FormatHostPort("THIS-HOST", port) : FormatHostPort(listen.host, port);
  std::string query;
  if (token.generated)
    query = "?token=" + token.token;
  else if (!token.token.empty())
    query = "?token=<your --token>";
  std::string out;
  if (!listen.loopback)
    out += fmt::format(
        "recorder serve: listening on {}{}: other machines can connect; every request needs the "
        "token\n",
        FormatHostPort(listen.host, port), any ? " (every address of this machine)" : "");
  if (token.generated) out += fmt::format("recorder serve: token {}\n", token.token);
  if (token.token.empty())
    out += "recorder serve: no token: anyone on this machine can read the database\n";
  out += fmt::format("recorder serve: open http://{}/{}\n", where, query);
  out += "recorder serve: read-only; Ctrl-C stops\n";
  return out;
}

}  // namespace recorder::serve
