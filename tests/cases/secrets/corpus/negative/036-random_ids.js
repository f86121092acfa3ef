const buildId = '68efc3f77ce55f4eda3a3fe1fe7995ca226c4433';
const nonce = 'eMuCad13bI3dlezbKKoy6Q9vtDRplZQq';
const cacheKey = 'v2-690d589ef92fc8c6';
