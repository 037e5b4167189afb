{
  "targets": [
    {
      "target_name": "weft_original_dst",
      "sources": ["original_dst.cc"]
    }
  ]
}
