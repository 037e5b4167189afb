{
  "targets": [
    {
      "target_name": "weft_original_dst",
      "sources": ["original_dst.cc"]
    },
    {
      "target_name": "weft_memory",
      "sources": ["memory.cc"]
    }
  ]
}
