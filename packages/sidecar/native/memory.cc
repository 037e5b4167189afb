// Giving memory back once a sidecar has gone idle (src/memory/). Two calls Node has no binding
// for: glibc's malloc_trim, which returns the free memory of every malloc arena (not only the top
// of the main one, as free() does on its own) with madvise(MADV_DONTNEED); and V8's last-resort
// collection, which Node 20's `gc` function cannot ask for. The addon is N-API for everything
// else; the one V8 call links against the V8 of the node whose headers it was built with (build.js
// uses the running node's), and Isolate::LowMemoryNotification has kept its signature for a decade.
// A node the addon cannot load into makes the sidecar fall back (src/memory/native-memory.ts).
#include <node_api.h>
#include <v8.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

// mallocTrim() -> true if memory was released, false if there was none to release; undefined when
// the C library has no malloc_trim (musl, not Linux).
static napi_value MallocTrim(napi_env env, napi_callback_info) {
  napi_value result;
#if defined(__GLIBC__)
  napi_get_boolean(env, malloc_trim(0) == 1, &result);
#else
  napi_get_undefined(env, &result);
#endif
  return result;
}

// lowMemoryNotification(): V8's last-resort collection (Heap::CollectAllAvailableGarbage): full
// collections with the memory-reducing flags until nothing more is freed, which also shrinks the
// young generation and releases the pages V8 keeps pooled. Must run on the isolate's own thread.
static napi_value LowMemory(napi_env env, napi_callback_info) {
  v8::Isolate::GetCurrent()->LowMemoryNotification();
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "mallocTrim", NAPI_AUTO_LENGTH, MallocTrim, nullptr, &fn);
  napi_set_named_property(env, exports, "mallocTrim", fn);
  napi_create_function(env, "lowMemoryNotification", NAPI_AUTO_LENGTH, LowMemory, nullptr, &fn);
  napi_set_named_property(env, exports, "lowMemoryNotification", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
