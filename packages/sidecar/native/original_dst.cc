// SO_ORIGINAL_DST for Node.js: the address a connection was sent to before an iptables REDIRECT
// rewrote it. Node cannot call getsockopt, so this is the one thing done natively. Plain N-API
// (node_api.h), so the addon builds against the headers of the node that runs it and nothing else.
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

// originalDst(fd) -> "a.b.c.d:port", or undefined when the connection was not redirected (no
// conntrack entry: ENOENT) or is not IPv4. Throws on a bad argument or another errno.
static napi_value OriginalDst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1) {
    napi_throw_type_error(env, "WEFT_ERR_BAD_ARGUMENT", "originalDst(fd) needs a file descriptor");
    return undefined;
  }
  int32_t fd = -1;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "WEFT_ERR_BAD_ARGUMENT", "originalDst(fd) needs a non-negative integer");
    return undefined;
  }
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);
  memset(&addr, 0, sizeof(addr));
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &addr, &len) != 0) {
    if (errno == ENOENT || errno == ENOPROTOOPT) return undefined;
    char message[128];
    snprintf(message, sizeof(message), "getsockopt(SO_ORIGINAL_DST) failed: %s", strerror(errno));
    napi_throw_error(env, "WEFT_ERR_ORIGINAL_DST", message);
    return undefined;
  }
  if (addr.sin_family != AF_INET) return undefined;
  char host[INET_ADDRSTRLEN];
  if (inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host)) == nullptr) return undefined;
  char text[INET_ADDRSTRLEN + 8];
  snprintf(text, sizeof(text), "%s:%u", host, (unsigned)ntohs(addr.sin_port));
  napi_value result;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "originalDst", NAPI_AUTO_LENGTH, OriginalDst, nullptr, &fn);
  napi_set_named_property(env, exports, "originalDst", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
