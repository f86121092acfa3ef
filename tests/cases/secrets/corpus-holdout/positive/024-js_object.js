module.exports = { clientSecret: 'c4ylHCHENiRLW5UsGGQrJ9ZLmCb_XOT8yoZCgaoH', clientId: 'web' };
