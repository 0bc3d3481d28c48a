{
  "targets": [
    {
      "target_name": "gantry_native",
      "sources": ["src/native/gantry-native.c"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
