"""Synthetic credentials for the rule table tests and the labelled corpus.

Samples are templates (``ghp_{an36}``) filled with seeded random characters, so the
repository holds no literal token a scanner or a push-protection service could mistake
for a live one, and every run sees the same strings.
"""

from __future__ import annotations

import random
import re
import zlib

ALPHABETS = {
    "an": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "al": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "up": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "lo": "abcdefghijklmnopqrstuvwxyz0123456789",
    "b64": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "url": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    "b32": "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    "b32l": "abcdefghijklmnopqrstuvwxyz234567",
    "d": "0123456789",
    "bech": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
    "pw": "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789!#%^&*-_+",
}
_FIELD = re.compile(r"\{([A-Za-z0-9]+?)(\d+)\}|\{uuid\}|\{pem:([A-Z0-9 ]+)\}")
_NAMES = sorted(ALPHABETS, key=len, reverse=True)


def _split(field: str) -> tuple[str, int]:
    # "b3216" is base32 x 16, "b6440" base64 x 40: the longest alphabet name wins.
    for name in _NAMES:
        rest = field[len(name):]
        if field.startswith(name) and rest.isdigit():
            return name, int(rest)
    raise KeyError(field)


def fill(template: str, seed: str | int = 0) -> str:
    rng = random.Random(zlib.crc32(f"{seed}|{template}".encode()))

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "{uuid}":
            h = "".join(rng.choice(ALPHABETS["hex"]) for _ in range(32))
            return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
        if m.group(3):
            body = "".join(rng.choice(ALPHABETS["b64"]) for _ in range(64 * 12))
            lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
            return f"-----BEGIN {m.group(3)}-----\nMIIE{lines}\n-----END {m.group(3)}-----"
        name, n = _split(m.group(1) + m.group(2))
        alphabet = ALPHABETS[name]
        while True:
            value = "".join(rng.choice(alphabet) for _ in range(n))
            # keep the sample looking random: at least one digit where the alphabet has digits
            if n < 8 or not any(c.isdigit() for c in alphabet) or any(c.isdigit() for c in value):
                return value

    return _FIELD.sub(one, template)


# rule id -> templates that must be detected by exactly that rule (a realistic line each).
SAMPLES: dict[str, list[str]] = {
    "aws-access-key-id": ["aws_access_key_id = AKIA{b3216}", "ASIA{b3216}"],
    "aws-secret-access-key": ["aws_secret_access_key = {b6440}", 'AWS_SECRET_ACCESS_KEY="{b6440}"'],
    "aws-session-token": ["aws_session_token = {b64200}"],
    "aws-mws-key": ["mws = amzn.mws.{uuid}"],
    "gcp-api-key": ['const key = "AIza{url35}";'],
    "gcp-oauth-client-secret": ['"client_secret": "GOCSPX-{url28}"'],
    "google-oauth-access-token": ["Authorization: token ya29.{url80}"],
    "google-oauth-refresh-token": ['refresh = "1//0{url60}"'],
    "gcp-service-account-key-id": ['"private_key_id": "{hex40}",'],
    "azure-storage-account-key": ["DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={b6486}==;"],
    "azure-shared-access-key": ["Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=R;SharedAccessKey={b6443}="],
    "azure-sas-token": ["https://a.blob.core.windows.net/c?sv=2021-08-06&ss=b&sp=r&se=2030-01-01&sig={an44}%3D"],
    "azure-ad-client-secret": ['AZURE_CLIENT_SECRET="{an3}8Q~{url34}"'],
    "azure-devops-pat": ["AZURE_DEVOPS_PAT={b32l52}"],
    "digitalocean-pat": ["DO_TOKEN=dop_v1_{hex64}"],
    "digitalocean-oauth-token": ["doo_v1_{hex64}"],
    "alibaba-access-key-id": ["access_key_id: LTAI{an20}"],
    "alibaba-secret-key": ["alibaba_secret = {an30}"],
    "ibm-cloud-api-key": ["IBM_CLOUD_API_KEY={url44}"],
    "heroku-api-key": ["HEROKU_API_KEY={uuid}"],
    "heroku-api-key-v2": ["HRKU-{url60}"],
    "cloudflare-api-token": ["CLOUDFLARE_API_TOKEN={url40}"],
    "cloudflare-global-api-key": ["cloudflare_global_key = {hex37}"],
    "cloudflare-origin-ca-key": ["v1.0-{hex24}-{hex146}"],
    "linode-token": ["LINODE_TOKEN={hex64}"],
    "flyio-token": ["FLY_API_TOKEN=fo1_{url43}"],
    "vercel-token": ["VERCEL_TOKEN={an24}"],
    "netlify-token": ["nfp_{an36}"],
    "render-api-key": ["rnd_{an32}"],
    "yandex-api-key": ["AQVN{url36}"],
    "tailscale-key": ["TS_AUTHKEY=tskey-auth-{an12}-{an30}"],
    "github-pat": ["GITHUB_TOKEN=ghp_{an36}", "git clone https://ghp_{an36}@github.com/o/r"],
    "github-fine-grained-pat": ["github_pat_{an22}_{an59}"],
    "github-oauth-token": ["gho_{an36}"],
    "github-app-token": ["ghs_{an36}", "ghu_{an36}"],
    "github-refresh-token": ["ghr_{an76}"],
    "gitlab-pat": ["GITLAB_TOKEN=glpat-{url20}"],
    "gitlab-pipeline-trigger-token": ["glptt-{hex40}"],
    "gitlab-runner-token": ["glrt-{url20}", "GR1348941{url20}"],
    "gitlab-deploy-token": ["gldt-{url20}"],
    "gitlab-feed-token": ["glft-{url20}"],
    "gitlab-cicd-job-token": ["glcbt-{an2}_{url20}"],
    "gitlab-oauth-secret": ["gloas-{url64}"],
    "gitlab-agent-token": ["glagent-{url50}"],
    "bitbucket-token": ["BITBUCKET_TOKEN=ATBB{an32}"],
    "atlassian-api-token": ["JIRA_TOKEN=ATATT3{url180}"],
    "circleci-token": ["CCIPAT_{an22}_{hex40}"],
    "circleci-legacy-token": ["CIRCLE_TOKEN={hex40}"],
    "travis-token": ["travis_token: {an22}"],
    "buildkite-token": ["bkua_{hex40}"],
    "jenkins-api-token": ["JENKINS_API_TOKEN={hex34}"],
    "terraform-cloud-token": ["token = \"{an14}.atlasv1.{url67}\""],
    "vault-service-token": ["VAULT_TOKEN=hvs.{url90}"],
    "vault-legacy-token": ["vault_token: s.{an24}"],
    "pulumi-token": ["PULUMI_ACCESS_TOKEN=pul-{hex40}"],
    "doppler-token": ["DOPPLER_TOKEN=dp.st.{an43}"],
    "sonarqube-token": ["SONAR_TOKEN=sqp_{hex40}"],
    "snyk-token": ["SNYK_TOKEN={uuid}"],
    "codecov-token": ["CODECOV_TOKEN={uuid}"],
    "artifactory-token": ["AKCp{an69}"],
    "octopus-deploy-key": ["OCTOPUS_API_KEY=API-{up26}"],
    "harness-pat": ["pat.{url22}.{hex24}.{an20}"],
    "infracost-key": ["ico-{an32}"],
    "kubernetes-bootstrap-token": ["--token {lo6}.{lo16}"],
    "kubeconfig-token": ["    client-key-data: {b64120}"],
    "stripe-secret-key": ["STRIPE_KEY=sk_live_{an24}", "rk_live_{an99}"],
    "stripe-webhook-secret": ["whsec_{an32}"],
    "square-access-token": ["EAAA{url60}", "sq0atp-{url22}"],
    "square-oauth-secret": ["sq0csp-{url43}"],
    "braintree-access-token": ["access_token$production${lo16}${hex32}"],
    "shopify-token": ["shpat_{hex32}", "shpss_{hex32}"],
    "flutterwave-secret-key": ["FLWSECK-{hex32}-X"],
    "razorpay-key": ["RAZORPAY_KEY_SECRET={an24}"],
    "plaid-access-token": ["access-production-{uuid}"],
    "gocardless-token": ["GOCARDLESS_TOKEN=live_{url40}"],
    "coinbase-key": ["COINBASE_API_SECRET={an32}"],
    "easypost-key": ["EZAK{an54}"],
    "duffel-token": ["duffel_live_{url43}"],
    "shippo-token": ["shippo_live_{hex40}"],
    "slack-bot-token": ["SLACK_BOT_TOKEN=xoxb-{d12}-{d13}-{an24}"],
    "slack-user-token": ["xoxp-{d12}-{d12}-{d12}-{an32}"],
    "slack-app-token": ["xapp-1-A{up10}-{d13}-{hex64}"],
    "slack-config-token": ["xoxe.xoxp-1-{up164}"],
    "slack-legacy-token": ["xoxs-{d10}-{d10}-{d10}-{hex64}"],
    "slack-webhook-url": ["https://hooks.slack.com/services/T{up8}/B{up8}/{an24}"],
    "discord-webhook-url": ["https://discord.com/api/webhooks/{d18}/{url68}"],
    "discord-bot-token": ["DISCORD_TOKEN=M{url23}.{url6}.{url27}"],
    "telegram-bot-token": ["bot{d9}:AA{url33}"],
    "twilio-api-key": ["TWILIO_API_KEY=SK{hex32}", "twilio_auth_token = {hex32}"],
    "sendgrid-api-key": ["SENDGRID_API_KEY=SG.{url22}.{url43}"],
    "mailgun-api-key": ["key-{hex32}"],
    "mailchimp-api-key": ["{hex32}-us14"],
    "mailersend-token": ["mlsn.{hex64}"],
    "brevo-api-key": ["xkeysib-{hex64}-{an16}"],
    "postmark-token": ["POSTMARK_SERVER_TOKEN={uuid}"],
    "resend-api-key": ["RESEND_API_KEY=re_{an8}_{an24}"],
    "teams-webhook-url": [
        "https://acme.webhook.office.com/webhookb2/{uuid}@{uuid}/IncomingWebhook/{hex32}/{uuid}"
    ],
    "intercom-token": ["INTERCOM_TOKEN={url60}"],
    "zendesk-token": ["ZENDESK_API_TOKEN={an40}"],
    "pagerduty-token": ["PAGERDUTY_TOKEN={url20}"],
    "notion-token": ["NOTION_TOKEN=secret_{an43}", "ntn_{d11}{an35}"],
    "airtable-pat": ["pat{an14}.{hex64}"],
    "linear-api-key": ["lin_api_{an40}"],
    "figma-pat": ["figd_{url40}"],
    "contentful-token": ["CFPAT-{url43}"],
    "postman-api-key": ["PMAK-{hex24}-{hex34}"],
    "readme-api-key": ["rdme_{lo70}"],
    "hubspot-token": ["pat-na1-{uuid}"],
    "typeform-token": ["tfp_{url59}"],
    "asana-token": ["ASANA_TOKEN=1/{d16}:{hex32}"],
    "dropbox-token": ["sl.{url140}"],
    "okta-token": ["OKTA_API_TOKEN=00{url40}"],
    "auth0-client-secret": ["AUTH0_CLIENT_SECRET={url64}"],
    "twitch-token": ["TWITCH_TOKEN={lo30}"],
    "twitter-bearer-token": ["AAAAAAAAAAAAAAAAAAAAA{an90}"],
    "facebook-access-token": ["EAA{an120}"],
    "mapbox-secret-token": ["sk.eyJ1Ijoi{url60}.{url22}"],
    "salesforce-token": ["00D{an15}!{an96}"],
    "firebase-fcm-server-key": ["AAAA{url7}:{url140}"],
    "sentry-token": ["sntryu_{hex64}", "sntrys_eyJ{b6480}"],
    "newrelic-key": ["NRAK-{up27}"],
    "datadog-api-key": ["DD_API_KEY={hex32}", "datadog_app_key: {hex40}"],
    "grafana-token": ["glsa_{an32}_{hex8}", "glc_{b6460}"],
    "dynatrace-token": ["dt0c01.{up24}.{up64}"],
    "honeycomb-key": ["HONEYCOMB_API_KEY={an32}"],
    "algolia-key": ["ALGOLIA_ADMIN_KEY={hex32}"],
    "openai-api-key": ["OPENAI_API_KEY=sk-proj-{url40}T3BlbkFJ{url40}", "sk-{an20}T3BlbkFJ{an20}"],
    "openai-project-key": ["sk-proj-{url120}"],
    "anthropic-api-key": ["ANTHROPIC_API_KEY=sk-ant-api03-{url93}AA"],
    "groq-api-key": ["gsk_{an52}"],
    "perplexity-api-key": ["pplx-{an48}"],
    "xai-api-key": ["xai-{an80}"],
    "openrouter-api-key": ["sk-or-v1-{hex64}"],
    "huggingface-token": ["HF_TOKEN=hf_{al34}"],
    "replicate-token": ["r8_{an37}"],
    "langsmith-key": ["lsv2_pt_{hex32}_{hex10}"],
    "pinecone-key": ["pcsk_{an6}_{an60}"],
    "fireworks-key": ["fw_{an24}"],
    "cohere-api-key": ["COHERE_API_KEY={an40}"],
    "mistral-api-key": ["MISTRAL_API_KEY={an32}"],
    "deepseek-api-key": ["DEEPSEEK_API_KEY=sk-{hex32}"],
    "together-api-key": ["TOGETHER_API_KEY={hex64}"],
    "elevenlabs-api-key": ["ELEVENLABS_API_KEY=sk_{hex48}"],
    "wandb-api-key": ["WANDB_API_KEY={hex40}"],
    "npm-token": ["NPM_TOKEN=npm_{an36}"],
    "npmrc-auth-token": ["//registry.npmjs.org/:_authToken={uuid}"],
    "pypi-token": ["password = pypi-AgEIcHlwaS5vcmc{url70}"],
    "rubygems-token": ["rubygems_{hex48}"],
    "nuget-api-key": ["oy2{lo43}"],
    "dockerhub-pat": ["DOCKER_PASSWORD=dckr_pat_{url27}"],
    "docker-config-auth": ['"auth": "ZGVwbG95OlN1cDNyLXMzY3JldC1wYXNz"'],  # warden:allow-secret (fixture)
    "crates-io-token": ["CARGO_REGISTRY_TOKEN=cio{an32}"],
    "clojars-token": ["CLOJARS_{lo60}"],
    "databricks-token": ["DATABRICKS_TOKEN=dapi{hex32}"],
    "prefect-key": ["pnu_{an36}"],
    "planetscale-token": ["pscale_tkn_{url40}"],
    "supabase-token": ["sbp_{hex40}"],
    "adobe-client-secret": ["p8e-{url32}"],
    "age-secret-key": ["AGE-SECRET-KEY-1{bech58}"],
    "onepassword-service-token": ["OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ{b64300}"],
    "onepassword-secret-key": ["A3-{up6}-{up11}-{up5}-{up5}-{up5}"],
    "defined-networks-key": ["dnkey-{lo26}-{lo52}"],
    "frameio-token": ["fio-u-{url64}"],
    "ngrok-token": ["NGROK_AUTHTOKEN={an27}_{an21}"],
    "etherscan-key": ["ETHERSCAN_API_KEY={up32}"],
    "uri-with-password": ["DATABASE_URL=postgres://app:{an16}@db.internal:5432/app",
                          "redis://:{an20}@cache:6379/0", "mongodb+srv://root:{an12}@cluster0.x.mongodb.net/db"],
    "jdbc-password": ["jdbc:mysql://db:3306/app?user=app&password={an14}"],
    "connection-string-password": ["Server=tcp:db.example.net;Database=app;User Id=app;Password={an16};"],
    "mysql-cli-password": ["mysql -h db -u root -p{an12} app"],
    "sshpass-password": ["sshpass -p '{an12}' ssh deploy@host"],
    "curl-basic-auth": ["curl -u admin:{an14} https://api.internal/v1"],
    "http-basic-auth": ["Authorization: Basic ZGVwbG95OlN1cDNyLXMzY3JldC1wYXNz"],  # warden:allow-secret (fixture)
    "http-bearer-token": ["Authorization: Bearer {url40}"],
    "netrc-password": ["machine api.internal login deploy password {an16}"],
    "jwt": ["eyJhbGciOiJIUzI1NiJ9.eyJ{url60}.{url43}"],
    "private-key-rsa": ["{pem:RSA PRIVATE KEY}"],
    "private-key-dsa": ["{pem:DSA PRIVATE KEY}"],
    "private-key-ec": ["{pem:EC PRIVATE KEY}"],
    "private-key-openssh": ["{pem:OPENSSH PRIVATE KEY}"],
    "private-key-pkcs8": ["{pem:PRIVATE KEY}"],
    "private-key-encrypted": ["{pem:ENCRYPTED PRIVATE KEY}"],
    "private-key-pgp": ["{pem:PGP PRIVATE KEY BLOCK}"],
    "private-key-ssh2": ["---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n{b64700}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----"],
    "private-key-putty": [
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\n{b64120}\nPrivate-MAC: {hex64}"
    ],
    "generic-password": ['DB_PASSWORD="{pw14}"', "password: {pw16}", "$password = '{pw12}';"],
    "generic-secret": ['client_secret = "{an32}"', "API_KEY={an40}", '"apiKey": "{url32}"'],
}
SAMPLES.update({
    "xml-secret": ["<password>{pw16}</password>", "<apiKey>{an32}</apiKey>"],
    "php-define-secret": ["define( 'DB_PASSWORD', '{pw16}' );", "define('AUTH_SALT', '{pw40}');"],
})
SAMPLES["pgpass-password"] = ["db.internal:5432:*:replicator:{an20}"]
SAMPLES["npmrc-auth"] = [
    "_auth = ZGVwbG95OkxwOSFaeDJxI1c=",  # warden:allow-secret (fixture: deploy:Lp9!Zx2q#W)
    "//npm.acme.io/:_password=THA5IVp4MnEjVw==",  # warden:allow-secret (fixture)
]
SAMPLES["cli-flag-secret"] = [
    "vault login --token {an26}",
    "docker login -u ci -p {an20} registry.acme.io",
    "./deploy.sh --api-key={an32} --env prod",
]
SAMPLES["http-bearer-token"].append('headers = {"Authorization": "Token {hex40}"}')
