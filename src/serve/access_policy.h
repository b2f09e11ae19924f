// Who may talk to `recorder serve`: the address it listens on and the
// token every request must carry. Pure functions over strings, so the
// policy is tested without sockets; web_server.cc applies them.
//
// The policy: a token is required on every listener. On loopback it is
// generated unless given, and the printed URL carries it; `--no-token` is
// allowed on loopback only. Loopback is not private on a shared machine:
// every local user can connect to 127.0.0.1, while monitor.db is readable
// by its owner alone, so a server without a token would hand the recording
// to anyone logged in. Any other address needs --listen and a token
// (given, or generated and printed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace recorder::serve {

inline constexpr std::string_view kDefaultListen = "127.0.0.1:8765";
// A --token shorter than this is refused: it could be guessed.
inline constexpr size_t kMinTokenChars = 16;

struct ListenAddress {
  std::string host;  // an IP literal, without brackets: "127.0.0.1", "::1"
  int port = 0;      // 0: any free port (the server reports which)
  bool loopback = false;
};

// "HOST:PORT" or "[IPV6]:PORT", HOST an IPv4 or IPv6 literal (no names: a
// name's addresses could change between the check and the bind). kInvalid
// with the reason otherwise.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// "127.0.0.1:8765", "[::1]:8765".
std::string FormatHostPort(const std::string& host, int port);

struct TokenChoice {
  std::string token;       // empty: no token (loopback with --no-token only)
  bool generated = false;  // made here: the caller prints it
};

// The token for `listen`: `given` when set (kInvalid below kMinTokenChars),
// none with `no_token` (kInvalid off loopback), else a generated one from
// `random_bytes` (at least 16 bytes of the kernel's randomness; its hex).
Result<TokenChoice> ChooseToken(const ListenAddress& listen, std::string_view given, bool no_token,
                                std::string_view random_bytes);

// 32 random bytes from getrandom(2).
Result<std::string> RandomBytes();

// Equal in time that depends on the length of `expected` only, never on
// where `presented` first differs.
bool ConstantTimeEquals(std::string_view presented, std::string_view expected);

// The value of cookie `name` in a Cookie header ("a=1; b=2"); empty when absent.
std::string_view CookieValue(std::string_view cookie_header, std::string_view name);

// The token of "Authorization: Bearer TOKEN"; empty for any other scheme.
std::string_view BearerToken(std::string_view authorization_header);

// The cookie the page keeps the token in: one name per port, because
// browsers share cookies between ports of one host.
std::string TokenCookieName(int port);

// Whether a request carries `token` in its Authorization header or its
// token cookie. An empty `token` (no token required) admits every request.
bool RequestCarriesToken(std::string_view token, std::string_view authorization_header,
                         std::string_view cookie_header, int port);

}  // namespace recorder::serve

namespace recorder::serve {

// Whether the Host header fits the listener. On loopback the host must
// be the address listened on or "localhost", with the port: a web page
// that has its own name pointed at 127.0.0.1 (DNS rebinding) is refused
// even without a token. Other listeners accept any Host (people reach
// them by names this machine cannot know); the token guards them.
bool HostAllowed(std::string_view host_header, const ListenAddress& listen, int port);

}  // namespace recorder::serve

namespace recorder::serve {

// What `recorder serve` prints to stderr once listening on `port`: the
// URL to open, with the token when it was generated (a given one is the
// caller's already and stays out of logs), and a warning off loopback.
std::string StartMessage(const ListenAddress& listen, int port, const TokenChoice& token);

}  // namespace recorder::serve
