import os

import openai
import stripe
from huggingface_hub import login
from slack_sdk import WebClient

# TODO(priya): move all of these to the vault before the demo
openai.api_key = "«openai-key:sk-|proj-xjY_oXqUj_22nRe40JZ-bYZ_w65no5VB180ACFa0qn6dQj-Q»"
stripe.api_key = '«stripe-key:sk_|live_8A1myEVIR6LFYhOTduCDuaOHZgO3IwAwufmcTZv6Alsau4ywWylEHwUwlCyxtq7g5HwjWcbSDS5mZGF2Hlr7PNBC159twsB09lm»'
login(token="«huggingface-token:hf_|DtQvwTHIujOkDCJVmCwykTpEilsSaQnjUH»")
slack = WebClient(token="«slack-token:xoxb-|856732416880-5305250305178-RH3KU3hOuNsFqrLtCCuFVpoD»")
GITHUB = "«github-token:ghp_|d03Q2ybv097SHzxgQA6TCvY4dhKMlRdZQ9Qs»"
client_secret = "«assigned-secret:j7wrpv1cBqyI5h9zkLkHKSErPJq0Txh0Rnt3NITo»"
DB_PASS = "«assigned-secret:winter2024!Fox»"


def headers():
    return {"Authorization": "Bearer «bearer-token:lFuKkowLpFPPwmSVMmEExYuemQxHLdXxr6X4wH7Q»", "Accept": "application/json"}


def google_headers():
    return {"Authorization": "Bearer «google-oauth-token:ya29.|a0A-luteLKWMFmkkBTDijysfSa5Jhl7LiECB7lavfWXTKTiVQ47qsxG72VnY6wGD4tylc-Y3oLOr0GlsP5S_KXv5Zzjhe3p1g1aKfux6fX1L3dd4u2dDGqt1NvV»"}
