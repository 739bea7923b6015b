"""The demo's catalogue, so that a fresh database has something to sell."""

from django.db import migrations

PRODUCTS = [
    ("espresso-cup", "Espresso cup", 900, 100),
    ("pour-over-kettle", "Pour-over kettle", 4500, 40),
    ("burr-grinder", "Burr grinder", 12900, 15),
    ("limited-edition-mug", "Limited-edition mug", 2500, 3),
]


def add_products(apps, schema_editor):
    Product = apps.get_model("shop", "Product")
    for sku, name, price_cents, stock in PRODUCTS:
        Product.objects.get_or_create(sku=sku, defaults={"name": name, "price_cents": price_cents, "stock": stock})


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [migrations.RunPython(add_products, migrations.RunPython.noop)]
