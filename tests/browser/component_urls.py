"""A URLconf for the component browser test: the service's URLs plus one page
that renders every kind of field through components/field.html."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from innovation.urls import handler400, handler403, handler404, handler500, urlpatterns
from tests.proposals.test_templatetags_govuk import ExampleForm

PAGE = """{% extends "base.html" %}
{% block title %}Components{% endblock %}
{% block content %}
{% include "components/error_summary.html" with form=form %}
<h1 class="govuk-heading-l">Components</h1>
{% include "components/warning_text.html" %}
<form method="post" novalidate enctype="multipart/form-data">
  {% csrf_token %}
  {% for field in form %}{% include "components/field.html" with field=field %}{% endfor %}
  <div class="govuk-button-group">
    {% include "components/button.html" with text="Continue" %}
    {% include "components/button.html" with text="Save as draft" variant="secondary" %}
  </div>
</form>
{% include "components/summary_list.html" with rows=rows %}
{% include "components/pagination.html" with page_obj=page %}
<p class="govuk-body">{% load govuk %}{% status_tag "in_review" %} {% status_tag "rejected" %}</p>
{% endblock %}"""


def components(request: HttpRequest) -> HttpResponse:
    form = ExampleForm(request.POST or None, request.FILES or None)
    if form.is_bound:
        form.is_valid()
    context = {
        "form": form,
        "rows": [
            {"key": "Title", "value": "Read forms automatically", "href": "#id_title"},
            {"key": "Status", "value": "Draft"},
        ],
        "page": Paginator(range(100), 10).page(3),
    }
    template = engines["django"].from_string(PAGE)
    return HttpResponse(template.render(context, request))


urlpatterns = [*urlpatterns, path("components/", components)]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
