"""Baidu AI Cloud: the bce-auth-v1 signer and the BCC client."""
