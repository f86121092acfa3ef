curl -u ci-bot:SunbL1JZMpQTNeQwSz https://jenkins.acme.io/job/build/api/json
