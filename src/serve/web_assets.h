// The page's files (web/ in the source tree), embedded into the binary at
// build time by cmake/embed_assets.cmake: the server reads nothing from
// disk but the database, and no asset comes from elsewhere.
#pragma once

#include <cstddef>
#include <string_view>

namespace recorder::serve {

struct WebAsset {
  std::string_view path;  // "/app.js"; the page itself is "/index.html"
  std::string_view body;
};

// Defined in the generated web_assets_data.cc.
extern const WebAsset kWebAssets[];
extern const size_t kWebAssetCount;

// The asset served at `path` ("/" is "/index.html"); nullptr when none.
const WebAsset* FindWebAsset(std::string_view path);

// "text/javascript; charset=utf-8" and so on, by the path's extension.
std::string_view ContentTypeFor(std::string_view path);

}  // namespace recorder::serve
