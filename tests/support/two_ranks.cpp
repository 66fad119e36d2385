#include "support/two_ranks.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "lincat/io/tensor_io.h"

namespace lincat::test {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::pair<ProgramResult, ProgramResult> run_two_ranks(const std::string& command) {
  const std::string flags = " --world-size 2 --dist-timeout 30 --master-addr 127.0.0.1 --master-port " +
                            std::to_string(free_port());
  auto rank1 = std::async(std::launch::async, [&] { return run_lincat(command + flags + " --rank 1"); });
  ProgramResult rank0 = run_lincat(command + flags + " --rank 0");
  return {rank0, rank1.get()};
}

void expect_close_safetensors(const std::string& a, const std::string& b) {
  const auto x = io::load_safetensors_map(a), y = io::load_safetensors_map(b);
  ASSERT_EQ(x.size(), y.size());
  for (const auto& [name, tensor] : x) {
    ASSERT_TRUE(y.count(name)) << name;
    EXPECT_TRUE(at::allclose(tensor, y.at(name), 1e-4, 1e-5)) << name << " differs by "
                                                              << (tensor - y.at(name)).abs().max().item<double>();
  }
}

}  // namespace lincat::test
