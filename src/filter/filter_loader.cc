#include "filter/filter_loader.h"

#include <algorithm>
#include <filesystem>

#include "util/json_text.h"

namespace recorder::filter {
namespace {

namespace fs = std::filesystem;

bool IsFile(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

}  // namespace

Result<LoadedFilters> CompileFilterTexts(std::vector<FilterText> filter_files,
                                         std::optional<FilterText> watchlist,
                                         bool only_watch_file_root) {
  Result<ParsedFilters> parsed =
      ParseFilterTexts(std::move(filter_files), std::move(watchlist), only_watch_file_root);
  if (!parsed.ok()) return parsed.status();
  LoadedFilters loaded;
  loaded.warnings = std::move(parsed->warnings);
  for (const ProductFilters& product : parsed->config.products)
    loaded.files.push_back(product.file);
  if (parsed->config.watchlist) loaded.files.push_back(parsed->config.watchlist->file);
  Result<std::shared_ptr<const CompiledFilters>> compiled =
      CompiledFilters::Compile(parsed->config);
  if (!compiled.ok()) return compiled.status();
  loaded.filters = std::move(compiled).value();
  return loaded;
}

Result<LoadedFilters> LoadFilters(const FilterLocations& where) {
  std::vector<std::string> paths;
  if (!where.filters_file.empty() && IsFile(where.filters_file))
    paths.push_back(where.filters_file);
  std::error_code ec;
  if (!where.config_dir.empty() && fs::is_directory(where.config_dir, ec)) {
    std::vector<std::string> products;
    for (const fs::directory_entry& entry : fs::directory_iterator(where.config_dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (ProductOfFile(name).empty() || !entry.is_regular_file(ec)) continue;
      products.push_back(entry.path().string());
    }
    if (ec) return Status::Errorf("cannot list {}: {}", where.config_dir, ec.message());
    std::sort(products.begin(), products.end());
    for (const std::string& path : products) {
      std::error_code same_ec;
      const bool same = !paths.empty() && fs::equivalent(paths.front(), path, same_ec);
      if (!same) paths.push_back(path);
    }
  }
  std::vector<FilterText> texts;
  for (const std::string& path : paths) {
    Result<std::string> text = ReadTextFile(path);
    if (!text.ok()) return text.status();
    texts.push_back(FilterText{path, std::move(text).value()});
  }
  std::optional<FilterText> watchlist;
  if (!where.watchlist_file.empty() && IsFile(where.watchlist_file)) {
    Result<std::string> text = ReadTextFile(where.watchlist_file);
    if (!text.ok()) return text.status();
    watchlist = FilterText{where.watchlist_file, std::move(text).value()};
  }
  return CompileFilterTexts(std::move(texts), std::move(watchlist), where.only_watch_file_root);
}

}  // namespace recorder::filter
