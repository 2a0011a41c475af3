"""Generate the bundled demo: 30 customer-support intents of a made-up online shop.

Written by the red team for the demo (no public dataset is copied). Each intent has a
handful of hand-written phrasings with slots; a fixed seed draws 20 seed examples per
intent and ~600 pool texts whose intent is kept as hidden gold, so the simulated judge
works on the demo. Run: python assets/make_demo.py (writes demo_seeds.csv, demo_pool.csv).
"""

import csv
import random
from pathlib import Path

SLOTS = {
    "item": ["jacket", "blender", "pair of shoes", "phone case", "desk lamp", "backpack", "coffee maker",
             "yoga mat", "rain coat", "kettle", "headset", "winter boots", "bike helmet", "watch"],
    "days": ["two", "three", "five", "six", "ten", "twelve"],
    "amount": ["$19.99", "$45", "$120", "$7.50", "$89", "$230"],
    "city": ["Lisbon", "Denver", "Osaka", "Leeds", "Austin", "Porto", "Munich"],
    "pay": ["credit card", "PayPal", "gift card", "debit card", "bank transfer"],
}

INTENTS = {
    "track_order": ["where is my {item}", "can you tell me where my order is", "my {item} still has not shipped, where is it",
                    "tracking for the {item} I bought", "has my package left the warehouse yet", "order status please, I ordered a {item}",
                    "it has been {days} days, where is my parcel", "I need the tracking number for my order"],
    "cancel_order": ["cancel my order for the {item}", "I want to cancel the order I just placed", "please stop my order before it ships",
                     "how do I cancel a purchase", "I changed my mind about the {item}, cancel it", "cancel the {item} order please",
                     "can I still cancel an order from {days} days ago", "undo my last order"],
    "return_item": ["I want to return the {item}", "how do I send back a {item}", "start a return for my order",
                    "the {item} doesn't fit, can I return it", "return label for the {item} please", "what is the return window",
                    "I'd like to send this {item} back", "can I return something I bought {days} days ago"],
    "refund_status": ["when will I get my refund", "my refund of {amount} has not arrived", "status of my refund for the {item}",
                      "I returned the {item} but no money yet", "how long do refunds take to {pay}", "where is my {amount} refund",
                      "refund still pending after {days} days", "did you process my refund"],
    "damaged_item": ["my {item} arrived broken", "the {item} came damaged", "the box was crushed and the {item} is cracked",
                     "received a faulty {item}", "the {item} stopped working on day one", "my order arrived smashed",
                     "there is a dent in the {item} I got", "the {item} is scratched out of the box"],
    "wrong_item": ["you sent me the wrong item", "I ordered a {item} but got something else", "this is not what I ordered",
                   "received a {item} instead of my order", "wrong size and wrong colour were delivered", "the package had someone else's {item}",
                   "I got the wrong model of {item}", "my order contains an item I never bought"],
    "missing_item": ["one item is missing from my order", "the {item} was not in the box", "package arrived without the {item}",
                     "only part of my order came", "my order says delivered but the {item} is missing", "half my items are not here",
                     "the box was empty", "the {item} I paid for was left out"],
    "change_address": ["change the delivery address for my order", "I moved to {city}, update my shipping address", "ship my {item} to a different address",
                       "wrong address on my order, can I fix it", "update where my package goes", "deliver to my office in {city} instead",
                       "can I edit the address after ordering", "my street name is misspelled on the order"],
    "delivery_time": ["how long does shipping take to {city}", "when will my {item} arrive", "what is the delivery time",
                      "can I get it within {days} days", "how fast is standard shipping", "expected arrival date for my order",
                      "do you deliver on weekends", "will it arrive before Friday"],
    "shipping_cost": ["how much is shipping to {city}", "is shipping free over {amount}", "why was I charged for delivery",
                      "what does express shipping cost", "shipping fees for a {item}", "do you have free delivery",
                      "delivery charge seems too high", "is international shipping expensive"],
    "payment_failed": ["my payment was declined", "the {pay} payment keeps failing", "checkout error when paying",
                       "card declined but I have funds", "I can't complete the payment for the {item}", "payment did not go through",
                       "error 402 at checkout", "why does my {pay} get rejected"],
    "payment_methods": ["can I pay with {pay}", "which payment methods do you accept", "do you take {pay}",
                        "is cash on delivery possible", "can I split the payment", "do you accept {pay} for a {item}",
                        "payment options please", "can I pay in instalments"],
    "double_charge": ["I was charged twice", "two charges of {amount} for one order", "you billed my {pay} twice",
                      "duplicate payment on my statement", "charged double for the {item}", "why are there two payments",
                      "I see the same charge of {amount} twice", "refund the extra charge please"],
    "invoice_request": ["I need an invoice for my order", "send me a receipt for the {item}", "can I get a VAT invoice",
                        "where do I download my invoice", "invoice with my company name please", "receipt for {amount} purchase",
                        "email me the bill for my order", "I need a copy of my receipt"],
    "discount_code": ["my discount code does not work", "promo code rejected at checkout", "how do I apply a coupon",
                      "the voucher says expired", "where do I enter a promo code", "is there a discount for new customers",
                      "code for {amount} off is not accepted", "can I use two coupons"],
    "price_match": ["do you price match", "the {item} is cheaper elsewhere", "can you match a competitor price",
                    "I found the {item} for {amount} at another shop", "price dropped after I bought, can I get the difference",
                    "lower the price to match", "price guarantee on the {item}", "will you refund the price difference"],
    "product_availability": ["is the {item} in stock", "when will the {item} be available again", "is this sold out",
                             "do you have the {item} in blue", "restock date for the {item}", "notify me when it is back",
                             "is the large size available", "do you still sell the {item}"],
    "product_info": ["what material is the {item} made of", "is the {item} waterproof", "dimensions of the {item}",
                     "does the {item} come with batteries", "how heavy is the {item}", "tell me more about the {item}",
                     "is the {item} dishwasher safe", "what colours does the {item} come in"],
    "size_guide": ["what size should I order", "do your shoes run small", "size chart for the {item}",
                   "I am between sizes, which one", "how do I measure for the {item}", "is a medium like a US 8",
                   "sizing help please", "does the {item} fit true to size"],
    "warranty": ["is the {item} under warranty", "how long is the warranty", "warranty claim for my {item}",
                 "does the warranty cover water damage", "my {item} broke after {days} months, warranty?", "extend the warranty",
                 "what does the guarantee cover", "do I need the receipt for a warranty claim"],
    "account_login": ["I can't log in", "my password is not working", "reset my password please",
                      "locked out of my account", "login page keeps saying error", "I forgot my password",
                      "two-factor code never arrives", "can't sign in on the app"],
    "update_account": ["change my email address", "update my phone number", "edit my account details",
                       "how do I change my name on the account", "update my saved {pay}", "change the default address to {city}",
                       "remove an old card from my account", "update my profile"],
    "delete_account": ["delete my account", "close my account permanently", "remove all my data",
                       "I want to stop having an account with you", "how do I erase my profile", "GDPR deletion request",
                       "deactivate my account please", "unsubscribe and delete everything"],
    "newsletter": ["stop sending me emails", "unsubscribe me from the newsletter", "too many marketing emails",
                   "sign me up for the newsletter", "how do I opt out of promotions", "I keep getting offers by email",
                   "change my email preferences", "no more newsletters please"],
    "gift_card": ["how do I use a gift card", "check my gift card balance", "my gift card code is invalid",
                  "buy a gift card for {amount}", "can I combine a gift card and {pay}", "gift card expired",
                  "send a digital gift card", "lost my gift card code"],
    "loyalty_points": ["how many points do I have", "redeem my loyalty points", "points from my {item} purchase are missing",
                       "how do reward points work", "do my points expire", "use points to pay for the {item}",
                       "join the rewards program", "my points balance is wrong"],
    "store_hours": ["what time does the {city} store open", "are you open on Sunday", "store hours in {city}",
                    "when do you close today", "holiday opening hours", "is the shop open late on Thursday",
                    "opening times please", "are you open right now"],
    "store_location": ["where is your store in {city}", "nearest shop to me", "do you have a store in {city}",
                       "address of the {city} branch", "can I pick up in store", "store locator", "is there parking at the {city} store",
                       "which stores carry the {item}"],
    "complaint": ["I want to file a complaint", "your service was terrible", "the courier was rude to me",
                  "I am very unhappy with my order", "this is the third time something went wrong", "let me speak to a manager",
                  "worst customer experience ever", "I want to complain about the {city} store"],
    "speak_to_human": ["can I talk to a real person", "connect me to an agent", "I need a human not a bot",
                       "call me back please", "what is your phone number", "live chat with support",
                       "transfer me to customer service", "is there someone I can speak to"],
}


def fill(template: str, rng: random.Random) -> str:
    out = template
    for slot, values in SLOTS.items():
        while "{" + slot + "}" in out:
            out = out.replace("{" + slot + "}", rng.choice(values), 1)
    variants = [out, out.capitalize(), out + "?", out + " please", "hi, " + out, out + ", thanks", "hello " + out + "!"]
    return rng.choice(variants)


def main() -> None:
    rng = random.Random(7)
    here = Path(__file__).parent
    seeds, pool = [], []
    for intent, templates in INTENTS.items():
        texts: list[str] = []
        seen: set[str] = set()
        while len(texts) < 40:
            t = fill(rng.choice(templates), rng)
            if t.lower() not in seen:
                seen.add(t.lower())
                texts.append(t)
        seeds += [(t, intent) for t in texts[:20]]
        pool += [(t, intent) for t in texts[20:]]
    rng.shuffle(pool)
    with open(here / "demo_seeds.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "label"])
        for k, (t, lab) in enumerate(seeds):
            w.writerow([f"seed-{k:04d}", t, lab])
    with open(here / "demo_pool.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "gold_intent"])
        for k, (t, lab) in enumerate(pool):
            w.writerow([f"pool-{k:04d}", t, lab])
    print(f"{len(INTENTS)} intents, {len(seeds)} seeds, {len(pool)} pool texts")


if __name__ == "__main__":
    main()
