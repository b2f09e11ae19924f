// Test helper: runs one of tests/data's captured logs through a pipeline.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "pipeline/pipeline.h"

namespace recorder {

// Feeds tests/data/`file` to `pipeline` line by line and finishes it;
// a missing file or a failed step is a test failure.
inline void FeedCapturedLog(const std::string& file, Pipeline* pipeline) {
  std::ifstream in(std::string(RECORDER_TEST_DATA) + "/" + file);
  EXPECT_TRUE(in.good()) << file;
  std::string line;
  while (std::getline(in, line)) EXPECT_TRUE(pipeline->FeedLine(line).ok());
  EXPECT_TRUE(pipeline->Finish().ok());
}

}  // namespace recorder
