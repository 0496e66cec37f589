"""Huawei Cloud support: the SDK-HMAC-SHA256 request signer and the EIP API client."""
