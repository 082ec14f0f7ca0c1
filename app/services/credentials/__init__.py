"""Trip credentials (乘车码) and health certificates (健康证明): signing keys, the signed QR payloads (issue, decode,
verify), the trust lists exchanged with other cities, and the certificates this deployment issues and prints."""
