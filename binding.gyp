{
  "targets": [
    {
      "target_name": "splice",
      "sources": ["native/splice.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["native/splice.c"]}]]
    }
  ]
}
