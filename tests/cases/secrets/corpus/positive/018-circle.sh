curl -H "Circle-Token: CCIPAT_4O0xJo3A7SMEZ4nkVGrThJ_06f4f50ae4065fa63c111e1c64d8fc6274c2a11b" https://circleci.com/api/v2/me
