// Test helpers: a sink that keeps what it is given, and one of
// tests/data's captured logs run through a pipeline.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>

#include "pipeline/pipeline.h"

namespace recorder {

// Keeps every typed event it is given, in order.
class VectorSink : public EventSink {
 public:
  Status Consume(EventBatch* events) override {
    for (TypedEvent& e : *events) events_.push_back(std::move(e));
    return Status::Ok();
  }
  EventBatch events_;
};

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
