"""SES templates through boto3: v2 CRUD and TestRenderEmailTemplate, v1 CreateTemplate /
ListTemplates / TestRenderTemplate on the same store, and the missing-attribute refusal."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest
from botocore.exceptions import ClientError


def test_v2_crud_and_paging(sesv2: Any) -> None:
    for name in ("a", "b", "c"):
        sesv2.create_email_template(
            TemplateName=name, TemplateContent={"Subject": f"S {name}", "Text": "T"}
        )
    got = sesv2.get_email_template(TemplateName="b")
    assert got["TemplateName"] == "b" and got["TemplateContent"]["Subject"] == "S b"
    sesv2.update_email_template(
        TemplateName="b", TemplateContent={"Subject": "New", "Html": "<p>h</p>"}
    )
    assert sesv2.get_email_template(TemplateName="b")["TemplateContent"]["Html"] == "<p>h</p>"
    first = sesv2.list_email_templates(PageSize=2)
    assert [t["TemplateName"] for t in first["TemplatesMetadata"]] == ["a", "b"]
    rest = sesv2.list_email_templates(PageSize=2, NextToken=first["NextToken"])
    assert [t["TemplateName"] for t in rest["TemplatesMetadata"]] == ["c"]
    assert "NextToken" not in rest
    sesv2.delete_email_template(TemplateName="a")
    names = [t["TemplateName"] for t in sesv2.list_email_templates()["TemplatesMetadata"]]
    assert names == ["b", "c"]


def test_test_render_answers_the_mime_message(sesv2: Any, ses: Any) -> None:
    ses.create_template(
        Template={
            "TemplateName": "greet",
            "SubjectPart": "Hello {{user.name}}",
            "TextPart": "Hi {{user.name}}",
            "HtmlPart": "<h1>Hi {{user.name}}</h1>",
        }
    )
    rendered = sesv2.test_render_email_template(
        TemplateName="greet", TemplateData='{"user": {"name": "Ann"}}'
    )["RenderedTemplate"]
    message = email.message_from_string(rendered, policy=email.policy.default)
    assert message["Subject"] == "Hello Ann"
    assert message.get_body(("plain",)).get_content().strip() == "Hi Ann"  # type: ignore[union-attr]
    assert "<h1>Hi Ann</h1>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    v1 = ses.test_render_template(TemplateName="greet", TemplateData='{"user": {"name": "Bo"}}')
    assert "Subject: Hello Bo" in v1["RenderedTemplate"]
    assert [t["Name"] for t in ses.list_templates()["TemplatesMetadata"]] == ["greet"]
    with pytest.raises(ClientError) as v1_missing:
        ses.test_render_template(TemplateName="greet", TemplateData="{}")
    assert v1_missing.value.response["Error"]["Code"] == "MissingRenderingAttribute"
    assert "Attribute 'user.name' is not present" in str(v1_missing.value)
    with pytest.raises(ClientError) as v2_missing:
        sesv2.test_render_email_template(TemplateName="greet", TemplateData="{}")
    assert v2_missing.value.response["Error"]["Code"] == "BadRequestException"
