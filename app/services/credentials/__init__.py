"""Trip credentials (乘车码): signing keys, and the signed QR payload itself (issue, decode, verify)."""
